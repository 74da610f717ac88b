//! The `exec` kind (OpenFaaS classic-watchdog semantics) on the process driver: echo, Http_*
//! variables, failing and slow commands, huge output, combine_output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use bridge::{ActionLimits, ContainerDriver, HttpRequestMeta, RunFailure, RuntimeKind};
use common::*;

async fn exec_container(
    t: &TestDriver,
    command: &str,
    env: &[(&str, &str)],
    limits: ActionLimits,
) -> bridge::ContainerId {
    let mut init = init_request(command);
    init.env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    init.limits = limits;
    ready(&t.driver, RuntimeKind::Exec, init).await
}

/// Writes a shell script into the test's directory and returns its path.
fn script(t: &TestDriver, name: &str, text: &str) -> String {
    let path = t.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn http(body: &str) -> HttpRequestMeta {
    HttpRequestMeta {
        method: "POST".into(),
        path: "/function/echo".into(),
        query: "a=1&b=2".into(),
        host: Some("gateway:8080".into()),
        headers: vec![("X-Served-By".into(), "test".into())],
        body: Some(body.as_bytes().to_vec()),
    }
}

#[tokio::test]
async fn echo_returns_the_body() {
    let t = driver(false).await;
    let id = exec_container(&t, "cat", &[], ActionLimits::default()).await;
    let mut request = run_request("a1", "{}");
    request.http = Some(http("hello body"));
    let out = t.driver.run(&id, request, TIMEOUT).await.unwrap();
    let answer = bridge::HttpAnswer::from_json(&out.result.unwrap()).unwrap();
    assert_eq!(answer.status_code, 200);
    assert_eq!(answer.body_bytes().unwrap(), b"hello body");
    // Without an HTTP body the params are the input.
    let out = run(&t.driver, &id, "a2", r#"{"x":1}"#).await;
    assert_eq!(out.result.unwrap(), r#"{"x":1}"#);
}

#[tokio::test]
async fn http_and_openwhisk_variables_reach_the_command() {
    let t = driver(false).await;
    let id = exec_container(&t, "env", &[], ActionLimits::default()).await;
    let mut request = run_request("act-9", "{}");
    request.http = Some(http("12345"));
    let out = t.driver.run(&id, request, TIMEOUT).await.unwrap();
    let answer = bridge::HttpAnswer::from_json(&out.result.unwrap()).unwrap();
    let env = String::from_utf8(answer.body_bytes().unwrap()).unwrap();
    for expected in [
        "Http_Method=POST",
        "Http_Path=/function/echo",
        "Http_Query=a=1&b=2",
        "Http_Host=gateway:8080",
        "Http_X_Served_By=test",
        "Http_Content_Length=5",
        "__OW_ACTIVATION_ID=act-9",
        "__OW_NAMESPACE=guest",
    ] {
        assert!(
            env.lines().any(|line| line == expected),
            "missing {expected} in\n{env}"
        );
    }
    // Nothing of the host's environment but PATH.
    assert!(!env.lines().any(|line| line.starts_with("CARGO")), "{env}");
}

#[tokio::test]
async fn failing_command_is_an_error_carrying_its_output() {
    let t = driver(false).await;
    let script = script(&t, "fail.sh", "echo partial\necho why >&2\nexit 3\n");
    let id = exec_container(
        &t,
        "",
        &[("fprocess", &format!("sh {script}"))],
        ActionLimits::default(),
    )
    .await;
    let out = run(&t.driver, &id, "a1", "{}").await;
    match out.result {
        Err(RunFailure::ExitStatus { code, output }) => {
            assert_eq!(code, Some(3));
            assert!(output.contains("partial"), "{output}");
            assert!(
                output.contains("why"),
                "combine_output puts stderr in the response: {output}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    // The container stays usable: the next request forks again.
    let again = run(&t.driver, &id, "a2", "{}").await;
    assert!(matches!(
        again.result,
        Err(RunFailure::ExitStatus { code: Some(3), .. })
    ));
}

#[tokio::test]
async fn without_combine_output_stderr_goes_to_the_logs() {
    let t = driver(false).await;
    let script = script(&t, "split.sh", "echo out\necho err1 >&2\necho err2 >&2\n");
    let id = exec_container(
        &t,
        &format!("sh {script}"),
        &[("combine_output", "false")],
        ActionLimits::default(),
    )
    .await;
    let out = run(&t.driver, &id, "a1", "{}").await;
    assert_eq!(out.result.as_deref().unwrap(), "out\n");
    assert_eq!(messages(&out), vec!["stderr: err1", "stderr: err2"]);
}

#[tokio::test]
async fn slow_command_is_killed_at_the_timeout() {
    let t = driver(false).await;
    let id = exec_container(&t, "sleep 30", &[], ActionLimits::default()).await;
    let clock = Instant::now();
    let out = t
        .driver
        .run(&id, run_request("a1", "{}"), Duration::from_millis(300))
        .await
        .unwrap();
    assert!(
        matches!(out.result, Err(RunFailure::Timeout { .. })),
        "{:?}",
        out.result
    );
    assert!(
        clock.elapsed() < Duration::from_secs(3),
        "{:?}",
        clock.elapsed()
    );
    assert_eq!(bridge::KILLED_PROCESS, "Killed process.");
    // No `sleep 30` of ours is left behind.
    let leftover = std::process::Command::new("pgrep")
        .args(["-f", "^sleep 30$"])
        .output()
        .unwrap();
    assert!(
        leftover.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&leftover.stdout)
    );
}

#[tokio::test]
async fn huge_output_is_bounded() {
    let t = driver(false).await;
    let limits = ActionLimits {
        result_bytes: 64 * 1024,
        ..ActionLimits::default()
    };
    // `yes` writes forever: only the bound stops it.
    let id = exec_container(&t, "yes whirl", &[], limits).await;
    let out = run(&t.driver, &id, "a1", "{}").await;
    match out.result {
        Err(RunFailure::ResultTooLarge { size, limit }) => {
            assert_eq!(limit, 64 * 1024);
            assert_eq!(size, 64 * 1024);
        }
        other => panic!("unexpected {:?}", other.map(|s| s.len())),
    }
    // Just under the bound is fine.
    let id = exec_container(&t, "head -c 60000 /dev/zero", &[], limits).await;
    assert_eq!(
        run(&t.driver, &id, "a2", "{}").await.result.unwrap().len(),
        60000
    );
}

#[tokio::test]
async fn unknown_program_is_a_spawn_error() {
    let t = driver(false).await;
    let id = exec_container(
        &t,
        "/nonexistent/whirl-command",
        &[],
        ActionLimits::default(),
    )
    .await;
    let err = t
        .driver
        .run(&id, run_request("a1", "{}"), TIMEOUT)
        .await
        .unwrap_err();
    assert!(!err.is_developer_error());
    assert!(
        err.to_string().contains("/nonexistent/whirl-command"),
        "{err}"
    );
}

#[tokio::test]
async fn concurrent_requests_fork_one_process_each() {
    let t = driver(false).await;
    let script = script(&t, "slow.sh", "sleep 0.3\ncat\n");
    let limits = ActionLimits {
        concurrency: 3,
        ..ActionLimits::default()
    };
    let id = exec_container(&t, &format!("sh {script}"), &[], limits).await;
    let clock = Instant::now();
    let (a, b, c) = tokio::join!(
        run(&t.driver, &id, "a1", r#"{"n":1}"#),
        run(&t.driver, &id, "a2", r#"{"n":2}"#),
        run(&t.driver, &id, "a3", r#"{"n":3}"#),
    );
    assert!(
        clock.elapsed() < Duration::from_millis(850),
        "{:?}",
        clock.elapsed()
    );
    assert_eq!(a.result.unwrap(), r#"{"n":1}"#);
    assert_eq!(b.result.unwrap(), r#"{"n":2}"#);
    assert_eq!(c.result.unwrap(), r#"{"n":3}"#);
}
