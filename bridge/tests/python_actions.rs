//! python:3 actions on the process driver, forked from the zygote and started directly:
//! results, errors, init failures, timeouts, limits, logs, zips, env vars, lifecycle.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bridge::logs::truncation_marker;
use bridge::{
    ActionLimits, ContainerDriver, ContainerSpec, ContainerState, DriverError, RunFailure,
    RuntimeKind,
};
use common::*;

const HELLO: &str = r#"
import os
def main(args):
    name = args.get("name", "stranger")
    print("hello to", name)
    return {"greeting": "Hello " + name}
"#;

#[tokio::test]
async fn success_through_the_zygote_with_logs_split_per_activation() {
    let t = driver(true).await;
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(HELLO)).await;
    let first = run(&t.driver, &id, "a1", r#"{"name":"Ada"}"#).await;
    assert_eq!(result_json(&first)["greeting"], "Hello Ada");
    assert_eq!(messages(&first), vec!["stdout: hello to Ada"]);
    let second = run(&t.driver, &id, "a2", r#"{"name":"Bob"}"#).await;
    assert_eq!(result_json(&second)["greeting"], "Hello Bob");
    assert_eq!(messages(&second), vec!["stdout: hello to Bob"]);
    assert!(!second.logs_truncated);
    let line = second.logs[0].to_string();
    assert!(line.ends_with(" stdout: hello to Bob"), "{line}");
    assert!(
        line.contains('T') && line.split(' ').next().unwrap().ends_with('Z'),
        "{line}"
    );
}

#[tokio::test]
async fn success_with_a_new_interpreter_per_container() {
    let t = driver(false).await;
    assert_eq!(t.driver.zygote_pid().await, None);
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(HELLO)).await;
    let out = run(&t.driver, &id, "a1", r#"{"name":"Ada"}"#).await;
    assert_eq!(result_json(&out)["greeting"], "Hello Ada");
}

#[tokio::test]
async fn returned_error_is_a_result() {
    let t = driver(true).await;
    let code = "def main(args):\n    return {\"error\": \"bad input\"}\n";
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
    let out = run(&t.driver, &id, "a1", "{}").await;
    assert_eq!(result_json(&out)["error"], "bad input");
}

#[tokio::test]
async fn exception_becomes_an_error_result_with_the_traceback_in_stderr() {
    let t = driver(true).await;
    let code = "def main(args):\n    return {\"x\": 1 / 0}\n";
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
    let out = run(&t.driver, &id, "a1", "{}").await;
    assert_eq!(
        result_json(&out)["error"],
        "ZeroDivisionError: division by zero"
    );
    let logs = messages(&out).join("\n");
    assert!(logs.contains("stderr: Traceback"), "{logs}");
    // The container survives an exception.
    let again = run(&t.driver, &id, "a2", "{}").await;
    assert!(again.result.is_ok());
}

#[tokio::test]
async fn syntax_error_fails_the_init_and_removes_the_container() {
    let t = driver(true).await;
    let id = t
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
        .await
        .unwrap();
    let err = t
        .driver
        .init(&id, init_request("def main(args)\n  return {}\n"), TIMEOUT)
        .await
        .unwrap_err();
    assert!(err.is_developer_error());
    match &err {
        DriverError::InitFailed { message, logs, .. } => {
            assert!(message.contains("SyntaxError"), "{message}");
            assert!(
                logs.iter().any(|l| l.message.contains("SyntaxError")),
                "{logs:?}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(t.driver.list().await.unwrap().is_empty());
    assert!(matches!(
        t.driver.run(&id, run_request("a1", "{}"), TIMEOUT).await,
        Err(DriverError::UnknownContainer(_))
    ));
}

#[tokio::test]
async fn missing_main_fails_the_init() {
    let t = driver(true).await;
    let id = t
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
        .await
        .unwrap();
    let err = t
        .driver
        .init(&id, init_request("def handler(a):\n  return a\n"), TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no function named 'main'"),
        "{err}"
    );
}

#[tokio::test]
async fn main_is_selectable() {
    let t = driver(true).await;
    let mut init = init_request("def handler(a):\n  return {\"via\": \"handler\"}\n");
    init.main = "handler".into();
    let id = ready(&t.driver, RuntimeKind::Python3, init).await;
    assert_eq!(
        result_json(&run(&t.driver, &id, "a1", "{}").await)["via"],
        "handler"
    );
}

#[tokio::test]
async fn timeout_kills_the_process_group_and_the_container_is_gone() {
    let t = driver(true).await;
    let code = "import time\ndef main(a):\n    print('going to sleep')\n    time.sleep(30)\n    return {}\n";
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
    let pgid = t.driver.list().await.unwrap()[0].process_group.unwrap();
    let out = t
        .driver
        .run(&id, run_request("a1", "{}"), Duration::from_millis(300))
        .await
        .unwrap();
    let failure = out.result.clone().unwrap_err();
    assert!(matches!(failure, RunFailure::Timeout { .. }), "{failure:?}");
    assert!(failure.container_lost());
    assert!(out.duration >= Duration::from_millis(300));
    assert!(messages(&out).contains(&"stdout: going to sleep".to_string()));
    assert!(wait_gone(pgid).await, "process {pgid} still alive");
    assert!(t.driver.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn oversize_result_is_refused_and_the_container_lives_on() {
    let t = driver(true).await;
    let code = "def main(a):\n    return {\"blob\": \"x\" * a.get(\"n\", 10)}\n";
    let mut init = init_request(code);
    init.limits = ActionLimits {
        result_bytes: 1000,
        ..ActionLimits::default()
    };
    let id = ready(&t.driver, RuntimeKind::Python3, init).await;
    let out = run(&t.driver, &id, "a1", r#"{"n": 5000}"#).await;
    match out.result {
        Err(RunFailure::ResultTooLarge { size, limit }) => {
            assert_eq!(limit, 1000);
            assert!(size > 5000, "{size}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let small = run(&t.driver, &id, "a2", r#"{"n": 3}"#).await;
    assert_eq!(result_json(&small)["blob"], "xxx");
}

#[tokio::test]
async fn non_json_results_are_bad_output() {
    let t = driver(true).await;
    let code =
        "def main(a):\n    if a.get('set'):\n        return {1, 2}\n    return 'just text'\n";
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
    let out = run(&t.driver, &id, "a1", "{}").await;
    assert!(
        matches!(out.result, Err(RunFailure::BadOutput { .. })),
        "{:?}",
        out.result
    );
    let out = run(&t.driver, &id, "a2", r#"{"set": true}"#).await;
    assert!(
        matches!(out.result, Err(RunFailure::BadOutput { .. })),
        "{:?}",
        out.result
    );
    assert!(messages(&out).join("\n").contains("not JSON"));
}

#[tokio::test]
async fn logs_are_cut_at_the_limit_with_a_marker() {
    let t = driver(true).await;
    let code =
        "def main(a):\n    for i in range(100):\n        print('line %03d' % i)\n    return {}\n";
    let mut init = init_request(code);
    init.limits = ActionLimits {
        log_bytes: 80,
        ..ActionLimits::default()
    };
    let id = ready(&t.driver, RuntimeKind::Python3, init).await;
    let out = run(&t.driver, &id, "a1", "{}").await;
    assert!(out.logs_truncated);
    let logs = messages(&out);
    assert_eq!(logs.len(), 11, "{logs:?}");
    assert_eq!(logs[0], "stdout: line 000");
    assert_eq!(logs[9], "stdout: line 009");
    assert_eq!(logs[10], format!("stderr: {}", truncation_marker(80)));
    // The next activation starts with a fresh budget.
    let next = run(&t.driver, &id, "a2", "{}").await;
    assert_eq!(messages(&next)[0], "stdout: line 000");
}

#[tokio::test]
async fn openwhisk_environment_variables_are_set_per_activation() {
    let t = driver(true).await;
    let code = r#"
import os, subprocess
def main(a):
    keys = ["__OW_API_KEY", "__OW_NAMESPACE", "__OW_ACTION_NAME", "__OW_ACTION_VERSION",
            "__OW_ACTIVATION_ID", "__OW_TRANSACTION_ID", "__OW_DEADLINE", "FROM_INIT", "FROM_SPEC"]
    seen = {k: os.environ.get(k) for k in keys}
    # What a child process inherits (the C environment, not only os.environ).
    child = subprocess.run(["sh", "-c", 'printf "%s %s" "$__OW_ACTIVATION_ID" "$__OW_NAMESPACE"'],
                           capture_output=True, check=True)
    seen["child"] = child.stdout.decode()
    # An action that overwrites or deletes its own variables does not change what the next run
    # sees.
    os.environ["__OW_NAMESPACE"] = "tampered"
    del os.environ["__OW_ACTIVATION_ID"]
    return seen
"#;
    let mut init = init_request(code);
    init.env.insert("FROM_INIT".into(), "init-value".into());
    let mut spec = ContainerSpec::runtime(RuntimeKind::Python3, 256);
    spec.env.insert("FROM_SPEC".into(), "spec-value".into());
    let id = t.driver.create(spec).await.unwrap();
    t.driver.init(&id, init, TIMEOUT).await.unwrap();
    let v = result_json(&run(&t.driver, &id, "act-1", "{}").await);
    assert_eq!(v["__OW_API_KEY"], "uuid:secret");
    assert_eq!(v["__OW_NAMESPACE"], "guest");
    assert_eq!(v["__OW_ACTION_NAME"], "/guest/test");
    assert_eq!(v["__OW_ACTION_VERSION"], "0.0.1");
    assert_eq!(v["__OW_ACTIVATION_ID"], "act-1");
    assert_eq!(v["__OW_TRANSACTION_ID"], "tx-act-1");
    assert_eq!(v["__OW_DEADLINE"], "4102444800000");
    assert_eq!(v["FROM_INIT"], "init-value");
    assert_eq!(v["FROM_SPEC"], "spec-value");
    assert_eq!(v["child"], "act-1 guest");
    let v = result_json(&run(&t.driver, &id, "act-2", "{}").await);
    assert_eq!(v["__OW_ACTIVATION_ID"], "act-2");
    assert_eq!(v["__OW_TRANSACTION_ID"], "tx-act-2");
    assert_eq!(v["__OW_NAMESPACE"], "guest");
    assert_eq!(v["child"], "act-2 guest");
    // A longer value than the last one (its buffer grows) reaches the child as well.
    let long_id = "x".repeat(300);
    let v = result_json(&run(&t.driver, &id, &long_id, "{}").await);
    assert_eq!(v["__OW_ACTIVATION_ID"], long_id.as_str());
    assert_eq!(v["child"], format!("{long_id} guest"));
}

/// A warm container's memory does not grow with the per-run variables: the activation and
/// transaction ids are new on every run, and setting them with setenv() kept every old value
/// (about 180 bytes a run here).
#[tokio::test]
async fn per_run_variables_do_not_grow_a_warm_container() {
    let t = driver(true).await;
    let code = r#"
def main(a):
    with open("/proc/self/statm") as statm:
        return {"rss_pages": int(statm.read().split()[1])}
"#;
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
    let runs = 6000;
    let grew = growth_over_runs(&t.driver, &id, 500, runs, |v| {
        v["rss_pages"].as_i64().unwrap()
    })
    .await;
    // 6,000 runs at 180 bytes would be about 260 pages.
    assert!(
        grew < 64,
        "the container grew by {grew} pages over {runs} runs"
    );
}

#[tokio::test]
async fn zip_action_runs_its_main_module() {
    let t = driver(true).await;
    let zip = zip_base64(&[
        (
            "__main__.py",
            "from helper import shout\ndef main(a):\n    return {\"said\": shout(a['w'])}\n",
        ),
        ("helper.py", "def shout(w):\n    return w.upper() + '!'\n"),
    ]);
    let mut init = init_request(&zip);
    init.binary = true;
    let id = ready(&t.driver, RuntimeKind::Python3, init).await;
    assert_eq!(
        result_json(&run(&t.driver, &id, "a1", r#"{"w":"hi"}"#).await)["said"],
        "HI!"
    );
}

#[tokio::test]
async fn zip_without_main_module_fails_the_init() {
    let t = driver(true).await;
    let mut init = init_request(&zip_base64(&[("other.py", "x = 1\n")]));
    init.binary = true;
    let id = t
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
        .await
        .unwrap();
    let err = t.driver.init(&id, init, TIMEOUT).await.unwrap_err();
    assert!(err.to_string().contains("__main__.py"), "{err}");
}

#[tokio::test]
async fn crash_during_a_run_is_reported_and_the_container_removed() {
    let t = driver(true).await;
    let code = "import os, sys\ndef main(a):\n    print('dying', file=sys.stderr, flush=True)\n    os._exit(3)\n";
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
    let out = run(&t.driver, &id, "a1", "{}").await;
    match out.result {
        Err(RunFailure::Crashed { detail }) => assert_eq!(detail, "dying"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(t.driver.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn memory_limit_turns_a_memory_error_into_out_of_memory() {
    let t = driver(true).await;
    let code =
        "def main(a):\n    blob = bytearray(400 * 1024 * 1024)\n    return {\"n\": len(blob)}\n";
    let id = t
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 128))
        .await
        .unwrap();
    t.driver
        .init(&id, init_request(code), TIMEOUT)
        .await
        .unwrap();
    let out = run(&t.driver, &id, "a1", "{}").await;
    assert_eq!(out.result, Err(RunFailure::OutOfMemory));
}

#[tokio::test]
async fn one_activation_at_a_time_for_python() {
    let t = driver(true).await;
    let mut init = init_request("def main(a):\n    return a\n");
    init.limits.concurrency = 2;
    let id = t
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
        .await
        .unwrap();
    let err = t.driver.init(&id, init, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, DriverError::InvalidRequest { .. }), "{err:?}");
    // Two runs sent at once on a concurrency-1 container are served one after the other,
    // each with its own result and logs.
    let code = "import time\ndef main(a):\n    print('start', a['n'])\n    time.sleep(0.1)\n    return {'n': a['n']}\n";
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
    let (a, b) = tokio::join!(
        run(&t.driver, &id, "a1", r#"{"n":1}"#),
        run(&t.driver, &id, "a2", r#"{"n":2}"#)
    );
    assert_eq!(result_json(&a)["n"], 1);
    assert_eq!(result_json(&b)["n"], 2);
    assert_eq!(messages(&a), vec!["stdout: start 1"]);
    assert_eq!(messages(&b), vec!["stdout: start 2"]);
}

#[tokio::test]
async fn pause_unpause_list_and_remove() {
    let t = driver(true).await;
    let mut spec = ContainerSpec::runtime(RuntimeKind::Python3, 256);
    spec.labels
        .insert("whirl.invoker".into(), "invoker0".into());
    let id = t.driver.create(spec).await.unwrap();
    let listed = t.driver.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, ContainerState::Stem);
    assert_eq!(listed[0].labels["whirl.invoker"], "invoker0");
    let pgid = listed[0].process_group.unwrap();
    assert!(matches!(
        t.driver.pause(&id).await,
        Err(DriverError::WrongState { .. })
    ));
    t.driver
        .init(&id, init_request(HELLO), TIMEOUT)
        .await
        .unwrap();
    t.driver.pause(&id).await.unwrap();
    assert_eq!(
        t.driver.list().await.unwrap()[0].state,
        ContainerState::Paused
    );
    let mut stopped = false;
    for _ in 0..100 {
        let stat = std::fs::read_to_string(format!("/proc/{pgid}/stat")).unwrap();
        if stat.split(") ").nth(1).unwrap().starts_with('T') {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(stopped, "process {pgid} was not stopped");
    assert!(matches!(
        t.driver.run(&id, run_request("a1", "{}"), TIMEOUT).await,
        Err(DriverError::WrongState { .. })
    ));
    t.driver.unpause(&id).await.unwrap();
    assert!(run(&t.driver, &id, "a1", "{}").await.result.is_ok());
    t.driver.remove(&id).await.unwrap();
    assert!(wait_gone(pgid).await);
    assert!(t.driver.list().await.unwrap().is_empty());
    // Removing twice is fine.
    t.driver.remove(&id).await.unwrap();
}

#[tokio::test]
async fn the_zygote_is_restarted_when_it_dies() {
    let t = driver(true).await;
    let zygote = t.driver.zygote_pid().await.unwrap();
    // The zygote keeps a spare child forked in advance; it must not outlive the zygote.
    let spares = children_of(zygote);
    assert_eq!(spares.len(), 1, "{spares:?}");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(i32::try_from(zygote).unwrap()).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(HELLO)).await;
    assert!(run(&t.driver, &id, "a1", "{}").await.result.is_ok());
    let restarted = t.driver.zygote_pid().await.unwrap();
    assert_ne!(restarted, zygote);
    for spare in spares {
        assert!(wait_gone(spare).await, "spare {spare} outlived its zygote");
    }
}

#[tokio::test]
async fn dropping_the_driver_kills_its_containers() {
    let t = driver(true).await;
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(HELLO)).await;
    let pgid = t.driver.list().await.unwrap()[0].process_group.unwrap();
    assert!(process_alive(pgid));
    let _ = id;
    drop(t.driver);
    assert!(wait_gone(pgid).await);
}

#[tokio::test]
async fn run_before_init_is_refused_at_once() {
    let t = driver(true).await;
    let id = t
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
        .await
        .unwrap();
    let refused = tokio::time::timeout(
        Duration::from_secs(2),
        t.driver.run(&id, run_request("a1", "{}"), TIMEOUT),
    )
    .await
    .expect("run on a stem cell must not wait");
    assert!(
        matches!(
            refused,
            Err(DriverError::WrongState {
                state: "a stem cell",
                ..
            })
        ),
        "{refused:?}"
    );
    // Init twice is refused too.
    t.driver
        .init(&id, init_request(HELLO), TIMEOUT)
        .await
        .unwrap();
    let again = t.driver.init(&id, init_request(HELLO), TIMEOUT).await;
    assert!(
        matches!(again, Err(DriverError::WrongState { .. })),
        "{again:?}"
    );
}

#[tokio::test]
async fn blackbox_images_are_not_for_the_process_driver() {
    let t = driver(true).await;
    let spec = ContainerSpec {
        image: bridge::ContainerImage::Blackbox("openwhisk/dockerskeleton".into()),
        ..ContainerSpec::runtime(RuntimeKind::Python3, 256)
    };
    let err = t.driver.create(spec).await.unwrap_err();
    // The action's fault (a developer error), not the platform's.
    assert!(
        matches!(&err, DriverError::ImageUnavailable { image, .. } if image == "openwhisk/dockerskeleton"),
        "{err:?}"
    );
    assert!(err.is_developer_error());
    assert!(err.to_string().contains("--backend docker"), "{err}");
    assert_eq!(
        t.driver.kinds(),
        vec![
            RuntimeKind::Python3,
            RuntimeKind::Nodejs20,
            RuntimeKind::Exec
        ]
    );
}

#[tokio::test]
async fn output_without_a_final_newline_is_kept_and_does_not_delay_the_result() {
    let t = driver(true).await;
    let code = "import sys\ndef main(a):\n    sys.stdout.write('no newline')\n    return {}\n";
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
    let out = run(&t.driver, &id, "a1", "{}").await;
    assert_eq!(messages(&out), vec!["stdout: no newline"]);
    // Both sentinels were seen, so the run did not wait out the log grace period.
    assert!(
        out.duration < Duration::from_millis(90),
        "{:?}",
        out.duration
    );
    let next = run(&t.driver, &id, "a2", "{}").await;
    assert_eq!(messages(&next), vec!["stdout: no newline"]);
}

#[tokio::test]
async fn an_action_that_replaces_sys_stdout_still_ends_its_logs() {
    // The sentinels go to fds 1 and 2 themselves, not through whatever `sys.stdout` is now.
    let t = driver(true).await;
    let code = "import io, sys\ndef main(a):\n    print('to fd 1')\n    sys.stdout = io.StringIO()\n    print('captured')\n    sys.stderr.write('to stderr\\n')\n    return {}\n";
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
    for activation in ["a1", "a2"] {
        let out = run(&t.driver, &id, activation, "{}").await;
        let expected: &[&str] = if activation == "a1" {
            &["stderr: to stderr", "stdout: to fd 1"]
        } else {
            &["stderr: to stderr"]
        };
        let mut logs = messages(&out);
        logs.sort();
        assert_eq!(logs, expected, "{activation}");
        assert_no_log_grace_wait(&out, activation);
    }
}

#[tokio::test]
async fn an_action_that_closes_its_stdout_and_stderr_still_gets_its_answers() {
    // The launcher's sentinels then have nowhere to go; the answers must still arrive.
    let t = driver(true).await;
    let code = "import os\ndef main(a):\n    if a.get('close'):\n        os.close(1)\n        os.close(2)\n    return {'n': a['n']}\n";
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
    for (n, extra) in [(1, ""), (2, r#","close":true"#), (3, "")] {
        run_numbered(&t.driver, &id, n, extra).await;
    }
}

#[tokio::test]
async fn a_launcher_that_died_after_answering_is_replaced_before_the_next_run() {
    // The action ends its own process shortly after its answer; the next activation is not its
    // victim: it runs in a fresh launcher initialized with the same code.
    let t = driver(true).await;
    let code = "import os, threading\nloaded = os.getpid()\ndef main(a):\n    if a.get('exit'):\n        threading.Timer(0.02, lambda: os._exit(3)).start()\n    return {'n': a['n'], 'pid': loaded}\n";
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
    let first = run(&t.driver, &id, "a1", r#"{"n":1,"exit":true}"#).await;
    assert_eq!(result_json(&first)["n"], 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = run(&t.driver, &id, "a2", r#"{"n":2}"#).await;
    assert_eq!(result_json(&second)["n"], 2, "{:?}", second.result);
    assert_ne!(result_json(&second)["pid"], result_json(&first)["pid"]);
    let third = run(&t.driver, &id, "a3", r#"{"n":3}"#).await;
    assert_eq!(result_json(&third)["pid"], result_json(&second)["pid"]);
    assert_eq!(t.driver.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn lines_an_action_writes_to_fd_3_never_become_answers() {
    // Whatever an action writes to the answer channel itself (a whole JSON line, text without a
    // newline, at init or in a run), each run gets its own answer and the next run its own.
    let t = driver(true).await;
    let code = "import os\nos.write(3, b'{\"from\": \"init\"}\\n')\ndef main(a):\n    if a.get('mode') == 'line':\n        os.write(3, b'{\"stale\": true}\\n')\n    if a.get('mode') == 'partial':\n        os.write(3, b'no newline')\n    return {'n': a['n']}\n";
    let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
    run_between_stray_answers(&t.driver, &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_zygote_containers_in_a_row() {
    // The zygote's spare acknowledges its start at once; the driver must not miss it.
    let t = driver(true).await;
    for n in 0..30 {
        let id = t
            .driver
            .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
            .await
            .unwrap_or_else(|e| panic!("create {n}: {e}"));
        t.driver
            .init(&id, init_request("def main(a):\n  return a\n"), TIMEOUT)
            .await
            .unwrap();
        let out = run(&t.driver, &id, "a", r#"{"n":1}"#).await;
        assert_eq!(result_json(&out)["n"], 1);
        t.driver.remove(&id).await.unwrap();
    }
}

#[tokio::test]
async fn init_that_hangs_times_out_and_init_that_exits_crashes() {
    let t = driver(true).await;
    let id = t
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
        .await
        .unwrap();
    let hang =
        "import time\nprint('loading', flush=True)\ntime.sleep(30)\ndef main(a):\n    return a\n";
    let err = t
        .driver
        .init(&id, init_request(hang), Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(err.is_developer_error());
    match &err {
        DriverError::InitTimedOut {
            timeout_ms, logs, ..
        } => {
            assert_eq!(*timeout_ms, 300);
            assert_eq!(logs[0].message, "loading");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(t.driver.list().await.unwrap().is_empty());

    let id = t
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
        .await
        .unwrap();
    let exits = "import os, sys\nsys.stderr.write('bye\\n')\nsys.stderr.flush()\nos._exit(4)\n";
    let err = t
        .driver
        .init(&id, init_request(exits), TIMEOUT)
        .await
        .unwrap_err();
    match &err {
        DriverError::InitCrashed { detail, .. } => assert_eq!(detail, "bye"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(t.driver.list().await.unwrap().is_empty());
}

/// Voluntary context switches of `pid` so far (times it blocked).
fn voluntary_switches(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The launcher blocks once per warm run, reading its next request. Over one socket for both
/// directions it blocked twice: reading the answer freed buffer space on the socket, which woke
/// the launcher already waiting for its next request (docs/runtimes.md, "plumbing").
#[tokio::test]
async fn a_warm_launcher_wakes_once_per_run() {
    for zygote in [true, false] {
        let t = driver(zygote).await;
        let code = "def main(args):\n    return {\"n\": args.get(\"n\")}\n";
        let id = ready(&t.driver, RuntimeKind::Python3, init_request(code)).await;
        let info = t.driver.list().await.unwrap();
        let pid = info
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.process_group)
            .unwrap();
        for n in 0..20 {
            run(&t.driver, &id, &format!("w{n}"), "{}").await;
        }
        let runs = 200;
        let before = voluntary_switches(pid);
        for n in 0..runs {
            let out = run(&t.driver, &id, &format!("a{n}"), &format!("{{\"n\":{n}}}")).await;
            assert_eq!(result_json(&out)["n"], n);
        }
        let per_run = (voluntary_switches(pid) - before) as f64 / f64::from(runs);
        assert!(
            per_run < 1.4,
            "zygote {zygote}: the launcher blocked {per_run:.2} times per run"
        );
    }
}
