//! Helpers shared by the bridge's integration tests: a process driver in a temporary
//! directory, and init/run requests with sensible defaults.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use bridge::{
    ActionLimits, ContainerDriver, ContainerId, ContainerSpec, InitRequest, ProcessDriver,
    ProcessDriverConfig, RunOutput, RunRequest, RuntimeKind,
};

pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct TestDriver {
    pub driver: ProcessDriver,
    pub dir: tempfile::TempDir,
}

/// A process driver with no stem cells; `zygote` chooses how python:3 starts.
pub async fn driver(zygote: bool) -> TestDriver {
    driver_with(|config| config.python_zygote = zygote).await
}

pub async fn driver_with(adjust: impl FnOnce(&mut ProcessDriverConfig)) -> TestDriver {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ProcessDriverConfig::new(dir.path().join("runtimes"));
    config.stem_cells.clear();
    adjust(&mut config);
    let driver = ProcessDriver::start(config).await.unwrap();
    TestDriver { driver, dir }
}

pub fn init_request(code: &str) -> InitRequest {
    InitRequest {
        name: "/guest/test".into(),
        main: "main".into(),
        code: code.into(),
        binary: false,
        env: BTreeMap::new(),
        limits: ActionLimits::default(),
    }
}

pub fn run_request(activation_id: &str, params: &str) -> RunRequest {
    RunRequest {
        params: params.into(),
        activation_id: activation_id.into(),
        transaction_id: format!("tx-{activation_id}"),
        namespace: "guest".into(),
        action_name: "/guest/test".into(),
        action_version: "0.0.1".into(),
        deadline_ms: 4_102_444_800_000,
        api_key: Some("uuid:secret".into()),
        extra: BTreeMap::new(),
        http: None,
    }
}

/// Creates a container of `kind` and initializes it with `init`.
pub async fn ready(driver: &ProcessDriver, kind: RuntimeKind, init: InitRequest) -> ContainerId {
    let id = driver
        .create(ContainerSpec::runtime(kind, 256))
        .await
        .unwrap();
    driver.init(&id, init, TIMEOUT).await.unwrap();
    id
}

pub async fn run(
    driver: &ProcessDriver,
    id: &ContainerId,
    activation_id: &str,
    params: &str,
) -> RunOutput {
    driver
        .run(id, run_request(activation_id, params), TIMEOUT)
        .await
        .unwrap()
}

/// Runs activation `a<n>` with the params `{"n": n<extra>}` (`extra`: more fields, each with a
/// leading comma) and checks that it got its own answer, `{"n": n}`, without waiting out the
/// log grace period (both sentinels seen).
pub async fn run_numbered(
    driver: &ProcessDriver,
    id: &ContainerId,
    n: u32,
    extra: &str,
) -> RunOutput {
    let out = run(
        driver,
        id,
        &format!("a{n}"),
        &format!(r#"{{"n":{n}{extra}}}"#),
    )
    .await;
    assert_eq!(
        result_json(&out),
        serde_json::json!({ "n": n }),
        "run {n} ({extra})"
    );
    assert_no_log_grace_wait(&out, &format!("run {n} ({extra})"));
    out
}

/// Checks that a run saw both sentinels: it did not wait out the driver's 100 ms log grace.
pub fn assert_no_log_grace_wait(out: &RunOutput, what: &str) {
    assert!(
        out.duration < std::time::Duration::from_millis(90),
        "{what} waited out the log grace period: {:?}",
        out.duration
    );
}

/// Plain runs between runs whose action writes to the answer channel itself: a whole line
/// (`"mode":"line"`) or text without a newline (`"mode":"partial"`); each must get its own answer.
pub async fn run_between_stray_answers(driver: &ProcessDriver, id: &ContainerId) {
    let line = r#","mode":"line""#;
    let partial = r#","mode":"partial""#;
    for (n, extra) in [
        (1, ""),
        (2, line),
        (3, ""),
        (4, partial),
        (5, ""),
        (6, line),
    ] {
        run_numbered(driver, id, n, extra).await;
    }
}

pub fn result_json(output: &RunOutput) -> serde_json::Value {
    let text = output.result.as_ref().expect("a result");
    serde_json::from_str(text).unwrap()
}

/// Runs `warm_up` activations in container `id`, reads `measure` from the last result, runs
/// `runs` more (each with a new activation id) and returns how much the measure grew: a warm
/// container's memory over many runs.
pub async fn growth_over_runs(
    driver: &ProcessDriver,
    id: &ContainerId,
    warm_up: usize,
    runs: usize,
    measure: impl Fn(&serde_json::Value) -> i64,
) -> i64 {
    let mut last = None;
    for n in 0..warm_up {
        last = Some(run(driver, id, &format!("warm-up-{n:05}"), "{}").await);
    }
    let before = measure(&result_json(last.as_ref().expect("a warm-up run")));
    for n in 0..runs {
        last = Some(run(driver, id, &format!("activation-{n:05}"), "{}").await);
    }
    measure(&result_json(last.as_ref().expect("a run"))) - before
}

pub fn messages(output: &RunOutput) -> Vec<String> {
    output
        .logs
        .iter()
        .map(|l| format!("{}: {}", l.stream.as_str(), l.message))
        .collect()
}

/// A zip archive (base64) holding `files`, built with python3's zipfile.
pub fn zip_base64(files: &[(&str, &str)]) -> String {
    let spec = serde_json::to_string(
        &files
            .iter()
            .map(|(n, c)| (n.to_string(), c.to_string()))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let script = r#"
import base64, io, json, sys, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    for name, content in json.loads(sys.argv[1]):
        z.writestr(name, content)
print(base64.b64encode(buf.getvalue()).decode())
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(spec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// True while a process with this pid exists (and is not a zombie).
pub fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .split(") ")
            .nth(1)
            .is_some_and(|rest| rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits up to a second for `pid` to be gone.
pub async fn wait_gone(pid: i32) -> bool {
    for _ in 0..100 {
        if !process_alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// The live (non-zombie) children of `parent`.
pub fn children_of(parent: u32) -> Vec<i32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let fields: Vec<&str> = stat.rsplit(") ").next().unwrap_or("").split(' ').collect();
        if fields.len() > 1 && fields[1] == parent.to_string() && fields[0] != "Z" {
            children.push(pid);
        }
    }
    children
}
